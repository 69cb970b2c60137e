import * as Path from 'path';

import type { Plugin } from '@hapi/hapi';
import * as Inert from '@hapi/inert';
import * as Vision from '@hapi/vision';
import * as HapiSwagger from 'hapi-swagger';

import { projectRoot } from '../lib/paths';
import { fixSpec, SwaggerSpec } from './docs-spec';

/** Swagger UI writes descriptions as Markdown: `<token>` outside a code span is an HTML tag and disappears. */
const tokenHint = 'Send `Bearer <token>`, with the token from POST /users/login';

/**
 * Swagger UI at /documentation, with an Authorize button that takes `Bearer <token>`. The token is required by
 * default; routes without authentication (login, the catalogue, health, WeChat's notify) say so, so the UI shows
 * the lock only where a token is needed. The page is our own template (plugins/docs-ui): it loads this server's
 * /swagger.json only, whatever `?url=` says; the document is served through fixSpec (plugins/docs-spec.ts).
 */
export const docsPlugin: Plugin<{ version: string }> = {
    name: 'wxshop-docs',
    async register(server, { version }) {
        await server.register([Inert, Vision]);
        await server.register({
            plugin: HapiSwagger,
            options: {
                info: {
                    title: 'wxshop API',
                    version,
                    description: 'Backend of a WeChat mini-program shop. Money is always an integer number of fen. ' +
                        'Log in with a wx.login code, then send `Authorization: Bearer <token>`.'
                },
                securityDefinitions: {
                    jwt: { type: 'apiKey', name: 'Authorization', in: 'header', description: tokenHint }
                },
                security: [{ jwt: [] }],
                grouping: 'tags',
                tags: [
                    { name: 'users', description: 'Login with wx.login codes' },
                    { name: 'shops', description: 'Shops and their goods' },
                    { name: 'orders', description: 'Orders and WeChat Pay' },
                    { name: 'health', description: 'Liveness and readiness' },
                    { name: 'merchant', description: 'The merchant side: staff logins, API keys, shops and goods, orders (each route names the roles and key scopes it admits)' },
                    { name: 'wechat', description: "WeChat's message push: server events (trade management), signed and in safe mode encrypted by WeChat" }
                ],
                documentationPath: '/documentation',
                templates: Path.join(projectRoot, 'plugins', 'docs-ui'),
                routeTag: (tags: string[]) => tags.includes('api')
            }
        });

        server.ext('onPreResponse', (request, h) => {
            const response = request.response;
            if (request.route.path === '/swagger.json' && !('isBoom' in response) && response.source && typeof response.source === 'object') {
                fixSpec(response.source as SwaggerSpec);
            }

            return h.continue;
        });

        server.ext('onPreStart', () => {
            for (const route of server.table()) {
                if (!(route.settings.auth || (route.settings.auth !== false && server.auth.settings.default))) {     // hapi's own rule
                    const plugins = route.settings.plugins as Record<string, Record<string, unknown> | undefined>;
                    plugins['hapi-swagger'] = { ...plugins['hapi-swagger'], security: [] };
                }
            }
        });
    }
};
