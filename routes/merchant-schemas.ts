import * as Joi from 'joi';

export const merchantBearer = Joi.object({
    authorization: Joi.string().description('Bearer <staff token from POST /merchant/login>, or Bearer wxk_... (an API key)')
}).unknown();
