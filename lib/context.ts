import type { Sequelize } from 'sequelize';

import type { Config } from '../config';
import type { Models } from '../models';
import type { LoginClient } from './wechat/login';

/** Everything a route needs, built once per server by createServer. */
export interface AppContext {
    config: Config;
    sequelize: Sequelize;
    models: Models;
    login: LoginClient;
}
