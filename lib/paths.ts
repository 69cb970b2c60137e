import * as Fs from 'fs';
import * as Path from 'path';

/**
 * The folder holding package.json, migrations/ and data/, whether this code runs from its TypeScript source or
 * compiled into dist/.
 */
export const projectRoot = findRoot(__dirname);

function findRoot(from: string): string {
    for (let dir = from; ; dir = Path.dirname(dir)) {
        if (Fs.existsSync(Path.join(dir, 'package.json')) && Fs.existsSync(Path.join(dir, 'migrations'))) {
            return dir;
        }

        if (Path.dirname(dir) === dir) {
            throw new Error(`no project root (package.json beside migrations/) above ${from}`);
        }
    }
}
