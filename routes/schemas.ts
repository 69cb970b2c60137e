import * as Joi from 'joi';

export const id = Joi.number().integer().min(1).max(2147483647);

export const pagination = Joi.object({
    page: Joi.number().integer().min(1).max(100000).default(1).description('1-based page number'),
    limit: Joi.number().integer().min(1).max(100).default(20).description('items per page, 1 to 100')
});

export function pageOf<T>(query: { page: number; limit: number }) {
    return { offset: (query.page - 1) * query.limit, limit: query.limit };
}

export function listOf(item: Joi.ObjectSchema, label: string) {
    return Joi.object({
        // Labelled, or Swagger shows the array as "Model9".
        results: Joi.array().items(item).required().label(`${label}Results`),
        totalCount: Joi.number().integer().min(0).required()
    }).label(label);
}

/** Boom's error answer. Extra keys are allowed: hapi validates error answers too, and Boom adds some (a 401's `attributes`). */
export const error = Joi.object({
    statusCode: Joi.number().integer().example(400),
    error: Joi.string().example('Bad Request'),
    message: Joi.string().example('"code" is required'),
    attributes: Joi.object().unknown().description('401 only: what was wrong with the token')
}).unknown().label('Error');

export const bearer = Joi.object({
    authorization: Joi.string().description('`Bearer <token>`, with the token from POST /users/login')
}).unknown();

const errorExamples: Record<number, [string, string]> = {
    400: ['Bad Request', '"limit" must be less than or equal to 100'],
    401: ['Unauthorized', 'Missing authentication'],
    403: ['Forbidden', 'WeChat refused this login (risky user)'],
    404: ['Not Found', 'Shop 9 does not exist'],
    409: ['Conflict', 'Not enough stock'],
    429: ['Too Many Requests', 'Rate limit exceeded'],
    502: ['Bad Gateway', 'WeChat rejected the request; the operator has been told'],
    503: ['Service Unavailable', 'WeChat is unavailable, try again shortly']
};

/** Response schemas for a route's error statuses, each with its own example: Swagger documents them, hapi checks them. */
export function errors(...codes: number[]) {
    return Object.fromEntries(codes.map((code) => {
        const [name, message] = errorExamples[code];
        const schema = error.keys({
            statusCode: Joi.number().integer().example(code),
            error: Joi.string().example(name),
            message: Joi.string().example(message)
        }).label(`Error${code}`).description(name);
        return [code, schema];
    }));
}
