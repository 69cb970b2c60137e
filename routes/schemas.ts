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
        results: Joi.array().items(item).required(),
        totalCount: Joi.number().integer().min(0).required()
    }).label(label);
}

export const error = Joi.object({
    statusCode: Joi.number().integer().example(400),
    error: Joi.string().example('Bad Request'),
    message: Joi.string().example('"code" is required')
}).label('Error');

export const bearer = Joi.object({
    authorization: Joi.string().description('Bearer <token> from POST /users/login')
}).unknown();

/** Response schemas for a route's error statuses: Swagger documents them, hapi checks them. */
export function errors(...codes: number[]) {
    const descriptions: Record<number, string> = {
        400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict',
        429: 'Too Many Requests', 502: 'Bad Gateway', 503: 'Service Unavailable'
    };
    return Object.fromEntries(codes.map((code) => [code, error.description(descriptions[code])]));
}
