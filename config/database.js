'use strict';

// sequelize-cli configuration: the same DATABASE_URL the server uses (default: the demo SQLite file).
const Path = require('path');

const url = process.env.DATABASE_URL || `sqlite:${Path.join(__dirname, '..', 'data', 'wxshop.sqlite')}`;
const sqlite = url.startsWith('sqlite:');
const entry = sqlite
    ? { dialect: 'sqlite', storage: url.slice('sqlite:'.length) }
    : { url: url.replace(/^mariadb:/, 'mysql:'), dialect: url.startsWith('postgres') ? 'postgres' : 'mysql' };

module.exports = { development: entry, test: entry, production: entry };
