'use strict';

// hapi-swagger's bundled UI dependencies define these globals when the docs plugin loads: not our leaks.
module.exports = {
    globals: 'CSS,__core-js_shared__,Symbol(react-redux-context)'
};
