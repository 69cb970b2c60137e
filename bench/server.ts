/**
 * The process under test, forked by bench/app.ts so the load generator never shares its event loop: the real app
 * (createServer, simulator mounted) and, on another port, a bare hapi server answering a constant small JSON.
 * With --profile the runner asks it for a CPU profile of each measured app run (inspector, no restart).
 */
import * as Fs from 'fs';
import * as Inspector from 'inspector';

import * as Hapi from '@hapi/hapi';

import { createServer } from '../app';
import { loadConfig } from '../config';

export interface ReadyMessage {
    type: 'ready';
    app: string;
    bare: string;
}

export type ControlMessage =
    | { type: 'start'; env: Record<string, string | undefined> }
    | { type: 'profile-start' }
    | { type: 'profile-stop'; file: string }
    | { type: 'stop' };

async function start(env: Record<string, string | undefined>): Promise<void> {
    const app = await createServer(loadConfig(env));
    await app.start();

    const bare = Hapi.server({ host: '127.0.0.1', port: 0 });
    bare.route({ method: 'GET', path: '/bare', handler: () => ({ ok: true }) });
    bare.route({ method: 'POST', path: '/bare', handler: () => ({ ok: true }) });
    await bare.start();

    const session = new Inspector.Session();
    session.connect();
    const post = (method: string) => new Promise<any>((resolve, reject) => session.post(method, (err, result) => (err ? reject(err) : resolve(result))));

    process.on('message', (message: ControlMessage) => {
        if (message.type === 'profile-start') {
            post('Profiler.enable').then(() => post('Profiler.start')).then(() => process.send!({ type: 'profiling' }));
        }
        else if (message.type === 'profile-stop') {
            post('Profiler.stop').then(({ profile }) => {
                Fs.writeFileSync(message.file, JSON.stringify(profile));
                process.send!({ type: 'profiled' });
            });
        }
        else if (message.type === 'stop') {
            Promise.all([app.stop({ timeout: 2000 }), bare.stop({ timeout: 2000 })]).finally(() => process.exit(0));
        }
    });
    process.send!({ type: 'ready', app: app.info.uri, bare: bare.info.uri } satisfies ReadyMessage);
}

process.once('message', (message: ControlMessage) => {
    if (message.type !== 'start') {
        return;
    }

    start(message.env).catch((err) => {
        console.error('bench server failed to start:', err);
        process.exit(1);
    });
});

process.on('disconnect', () => process.exit(0));      // the runner went away: never outlive it
