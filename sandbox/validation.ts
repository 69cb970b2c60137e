import * as Boom from '@hapi/boom';
import type { Lifecycle } from '@hapi/hapi';

/** Hook payloads that fail validation answer 400 with Joi's own words (hapi hides them by default). */
export const showValidationError: Lifecycle.Method = (_request, _h, err) => {
    throw Boom.badRequest(err!.message);
};
