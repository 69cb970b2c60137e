import * as Code from '@hapi/code';
import * as Lab from '@hapi/lab';

import { json, startApp, TestApp } from './helpers';

const { expect } = Code;
const { describe, it, before, after } = exports.lab = Lab.script();

/** Routes that are not part of the API: Swagger's own and the simulator's. */
const notApi = (path: string) => path === '/documentation' || path === '/swagger.json' || path.startsWith('/swaggerui/') || path.startsWith('/sandbox/');

describe('Swagger', () => {

    let app: TestApp;
    let doc: any;

    before(async () => {
        app = await startApp();
        const res = await json(app.server, { method: 'GET', url: '/swagger.json' });
        expect(res.statusCode).to.equal(200);
        doc = res.body;
    });

    after(() => app.stop());

    const operation = (path: string, method: string) => {
        const op = doc.paths[path]?.[method];
        expect(op, `${method.toUpperCase()} ${path} is documented`).to.exist();
        return op;
    };

    const definition = (ref: string) => {
        expect(ref).to.startWith('#/definitions/');
        const found = doc.definitions[ref.slice('#/definitions/'.length)];
        expect(found, ref).to.exist();
        return found;
    };

    it('serves the UI at /documentation', async () => {
        const res = await app.server.inject('/documentation');
        expect(res.statusCode).to.equal(200);
        expect(res.headers['content-type']).to.contain('text/html');
        expect(res.payload).to.contain('swagger.json');
        const bundle = await app.server.inject('/swaggerui/swagger-ui-bundle.js');
        expect(bundle.statusCode).to.equal(200);
    });

    it('describes the API with a Bearer-token security definition', () => {
        expect(doc.swagger).to.equal('2.0');
        expect(doc.info.title).to.equal('wxshop API');
        expect(doc.info.version).to.equal(require('../package.json').version);
        expect(doc.securityDefinitions.jwt).to.equal({
            type: 'apiKey', name: 'Authorization', in: 'header', description: 'Send `Bearer <token>`, with the token from POST /users/login'
        });
        expect(doc.security).to.equal([{ jwt: [] }]);
    });

    it('lists every API route, tagged and described, and none of the simulator', () => {
        const declaredTags = new Map<string, string>(doc.tags.map((tag: any) => [tag.name, tag.description]));
        const routes = app.server.table().filter((route) => !notApi(route.path));
        expect(routes.length).to.be.at.least(6);
        for (const route of routes) {
            const name = `${route.method.toUpperCase()} ${route.path}`;
            const tags = route.settings.tags ?? [];
            expect(tags, `${name} is tagged api`).to.include('api');
            expect(route.settings.description, `${name} has a description`).to.be.a.string();

            const op = operation(route.path, route.method);
            expect(op.tags, name).to.equal(tags.filter((tag) => tag !== 'api'));
            expect(op.tags.length as number, name).to.be.at.least(1);
            for (const tag of op.tags) {
                expect(declaredTags.get(tag), `tag ${tag} of ${name} is declared with a description`).to.be.a.string();
            }

            expect(op.summary, name).to.equal(route.settings.description);
            expect(Object.keys(op.responses).length, `${name} documents its responses`).to.be.at.least(1);
        }

        const documented = Object.entries(doc.paths).flatMap(([path, ops]: [string, any]) => Object.keys(ops).map((method) => `${method} ${path}`));
        expect(documented.length).to.equal(routes.length);
        expect(documented.filter((entry) => entry.includes('/sandbox') || entry.includes('__sim'))).to.equal([]);
    });

    it('documents the login request and its answers with schemas and examples', () => {
        const op = operation('/users/login', 'post');
        expect(op.tags).to.equal(['users']);
        expect(op.description).to.contain('jscode2session');
        const body = op.parameters.find((parameter: any) => parameter.in === 'body');
        const request = definition(body.schema.$ref);
        expect(request.required).to.equal(['code']);
        expect(request.properties.code.type).to.equal('string');
        expect(request.properties.code.example).to.be.a.string();
        expect(request.properties.code.maxLength).to.equal(128);

        expect(Object.keys(op.responses).sort()).to.equal(['200', '400', '401', '403', '429', '502', '503']);
        const answer = definition(op.responses['200'].schema.$ref);
        expect(answer.required).to.include(['token', 'expiresIn']);
        expect(answer.properties.expiresIn.example).to.equal(7200);
        for (const [status, name] of [['400', 'Bad Request'], ['401', 'Unauthorized'], ['429', 'Too Many Requests'], ['503', 'Service Unavailable']]) {
            const error = definition(op.responses[status].schema.$ref);
            expect(op.responses[status].description).to.equal(name);
            expect(Object.keys(error.properties).sort()).to.equal(['attributes', 'error', 'message', 'statusCode']);
            // Each status shows its own example, not another status's.
            expect(error.properties.statusCode.example).to.equal(Number(status));
            expect(error.properties.error.example).to.equal(name);
        }
    });

    it('documents shops and goods with paging parameters and money in fen', () => {
        for (const path of ['/shops', '/shops/{shopId}/goods']) {
            const op = operation(path, 'get');
            expect(op.tags).to.equal(['shops']);
            const query = Object.fromEntries(op.parameters.filter((parameter: any) => parameter.in === 'query').map((parameter: any) => [parameter.name, parameter]));
            expect(query.page).to.include({ type: 'integer', minimum: 1, default: 1 });
            expect(query.limit).to.include({ type: 'integer', minimum: 1, maximum: 100, default: 20 });
            expect(Object.keys(op.responses)).to.include(['200', '400']);
        }

        const goods = operation('/shops/{shopId}/goods', 'get');
        expect(goods.parameters.find((parameter: any) => parameter.in === 'path')).to.include({ name: 'shopId', type: 'integer', required: true });
        expect(Object.keys(goods.responses)).to.include('404');
        const list = definition(goods.responses['200'].schema.$ref);
        expect(list.required).to.equal(['results', 'totalCount']);
        const results = definition(list.properties.results.$ref);
        expect(list.properties.results.$ref).to.equal('#/definitions/GoodsListResults');
        expect(results.type).to.equal('array');
        const item = definition(results.items.$ref);
        expect(item.properties.price).to.include({ type: 'integer', description: 'fen', example: 6800 });
        expect(Object.keys(item.properties).sort()).to.equal(['id', 'name', 'price', 'shopId', 'stock', 'thumbUrl']);
    });

    it('documents that /ready can answer 503', () => {
        const op = operation('/ready', 'get');
        expect(Object.keys(op.responses).sort()).to.equal(['200', '503']);
    });

    it('documents the Authorization header on every route behind the jwt strategy', () => {
        for (const route of app.server.table().filter((r) => !notApi(r.path))) {
            const strategies = (route.settings.auth as any)?.strategies ?? [];
            if (!strategies.includes('jwt')) {
                continue;
            }

            const op = operation(route.path, route.method);
            const header = (op.parameters ?? []).find((parameter: any) => parameter.in === 'header' && parameter.name.toLowerCase() === 'authorization');
            expect(header || op.security, `${route.method} ${route.path}`).to.exist();
            expect(Object.keys(op.responses), `${route.method} ${route.path}`).to.include('401');
        }
    });

    it('shows the lock only on routes that need a token', () => {
        const routes = app.server.table().filter((r) => !notApi(r.path));
        const open = routes.filter((route) => !route.settings.auth).map((route) => `${route.method} ${route.path}`).sort();
        expect(open).to.equal(['get /health', 'get /ready', 'get /shops', 'get /shops/{shopId}/goods', 'get /wechat/push', 'post /merchant/login', 'post /orders/pay/notify', 'post /orders/refund/notify', 'post /users/login', 'post /wechat/push']);
        for (const route of routes) {
            const op = operation(route.path, route.method);
            expect(op.security, `${route.method} ${route.path}`).to.equal(route.settings.auth ? undefined : []);     // undefined: the global [{ jwt: [] }]
        }
    });
});
