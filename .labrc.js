'use strict';

// Globals that are not our leaks: hapi-swagger's bundled UI dependencies define the first three when the docs
// plugin loads, playwright-core (the browser tests) the last three. A script's own `cli.globals` replaces this
// list for the whole run, so keep them all here.
module.exports = {
    globals: 'CSS,__core-js_shared__,Symbol(react-redux-context),__zod_globalConfig,__zod_globalRegistry,Symbol(signal-exit emitter)'
};
