/**
 * Summarises a V8 CPU profile (from `npm run bench -- --profile <dir>`, or node --cpu-prof): the functions and the
 * packages/files with the most self time, the functions with the most total (inclusive) time, and optionally
 * who calls a given function.
 *
 *   node -r ts-node/register/transpile-only bench/profile.ts <file.cpuprofile> [--top 25] [--callers <functionName>]
 */
import * as Fs from 'fs';

interface ProfileNode {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
}

interface Profile {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
}

function fileOf(url: string): string {
    return url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, 'node_modules/').replace(/^.*\/work\/main\//, '');
}

function keyOf(node: ProfileNode): string {
    const { functionName, url, lineNumber } = node.callFrame;
    const file = fileOf(url);
    return `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim();
}

function placeOf(node: ProfileNode): string {
    const file = fileOf(node.callFrame.url);
    if (file.startsWith('node_modules/')) {
        const parts = file.split('/');
        return parts.slice(0, parts[1].startsWith('@') ? 3 : 2).join('/');
    }

    return file || node.callFrame.functionName || '(native)';
}

export function summarise(profile: Profile, options: { top: number; callers?: string }): string[] {
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const parent = new Map<number, number>();
    for (const node of profile.nodes) {
        for (const child of node.children ?? []) {
            parent.set(child, node.id);
        }
    }

    const selfTime = new Map<number, number>();
    profile.samples.forEach((id, index) => selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));
    const total = [...selfTime.values()].reduce((sum, value) => sum + value, 0);

    const self = new Map<string, number>();
    const place = new Map<string, number>();
    const inclusive = new Map<string, number>();
    const callers = new Map<string, number>();
    for (const [id, time] of selfTime) {
        const node = byId.get(id)!;
        self.set(keyOf(node), (self.get(keyOf(node)) ?? 0) + time);
        place.set(placeOf(node), (place.get(placeOf(node)) ?? 0) + time);

        const seen = new Set<string>();
        for (let cursor: number | undefined = id; cursor !== undefined; cursor = parent.get(cursor)) {
            const frame = byId.get(cursor)!;
            const key = keyOf(frame);
            if (!seen.has(key)) {
                seen.add(key);
                inclusive.set(key, (inclusive.get(key) ?? 0) + time);
            }

            if (options.callers && frame.callFrame.functionName === options.callers && !seen.has(`caller ${cursor}`)) {
                seen.add(`caller ${cursor}`);
                const chain: string[] = [];
                for (let up = parent.get(cursor); up !== undefined && chain.length < 6; up = parent.get(up)) {
                    chain.push(keyOf(byId.get(up)!));
                }

                callers.set(chain.join('\n        < '), (callers.get(chain.join('\n        < ')) ?? 0) + time);
            }
        }
    }

    const rank = (map: Map<string, number>, top = options.top) => [...map].sort(([, a], [, b]) => b - a).slice(0, top)
        .map(([key, time]) => `${((100 * time) / total).toFixed(1).padStart(5)}%  ${key}`);
    const internal = /^\((root|program|idle|garbage collector)\)|^processTicksAndRejections|^runMicrotasks|^listOnTimeout|^processTimers/;
    const lines = [
        `total sampled: ${(total / 1e6).toFixed(2)} s`,
        '', 'self time by function:', ...rank(self),
        '', 'self time by package or file:', ...rank(place),
        '', 'total (inclusive) time by function:', ...rank(new Map([...inclusive].filter(([key]) => !internal.test(key))))
    ];
    if (options.callers) {
        lines.push('', `callers of ${options.callers}:`, ...rank(callers, 8));
    }

    return lines;
}

if (require.main === module) {
    const args = process.argv.slice(2);
    const file = args.find((arg, index) => !arg.startsWith('--') && !args[index - 1]?.startsWith('--'));
    const option = (name: string) => {
        const index = args.indexOf(`--${name}`);
        return index >= 0 ? args[index + 1] : undefined;
    };
    if (!file) {
        console.error('usage: node -r ts-node/register/transpile-only bench/profile.ts <file.cpuprofile> [--top 25] [--callers <functionName>]');
        process.exit(64);
    }

    const profile = JSON.parse(Fs.readFileSync(file, 'utf8')) as Profile;
    console.log(summarise(profile, { top: Number(option('top') ?? 25), callers: option('callers') }).join('\n'));
}
