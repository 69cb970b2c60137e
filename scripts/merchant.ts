// npm run merchant -- create-owner --username NAME
// The password comes from MERCHANT_PASSWORD, or is asked for when stdin is a terminal. Uses DATABASE_URL (migrated).
import * as Readline from 'readline';

import { loadConfig } from '../config';
import { createSequelize } from '../lib/db';
import { createStaff, StaffInputError } from '../lib/merchant/staff';
import { initModels } from '../models';

const usage = 'usage: npm run merchant -- create-owner --username NAME   (password from MERCHANT_PASSWORD, or a prompt on a terminal)';

async function askPassword(): Promise<string> {
    const rl = Readline.createInterface({ input: process.stdin, output: process.stdout, terminal: true });
    const output = rl as unknown as { _writeToOutput: (text: string) => void; output: NodeJS.WriteStream };
    let prompting = true;
    output._writeToOutput = (text: string) => {
        if (prompting) {
            process.stdout.write(text);
        }
    };
    const password = await new Promise<string>((resolve) => rl.question('Password: ', resolve));
    prompting = false;
    rl.close();
    process.stdout.write('\n');
    return password;
}

async function main(argv: string[]): Promise<number> {
    const [command, ...rest] = argv;
    const at = rest.indexOf('--username');
    const username = at >= 0 ? rest[at + 1] : undefined;
    if (command !== 'create-owner' || !username) {
        console.error(usage);
        return 2;
    }

    let password = process.env.MERCHANT_PASSWORD;
    if (!password) {
        if (!process.stdin.isTTY) {
            console.error('Set MERCHANT_PASSWORD (no terminal to ask on)');
            return 2;
        }

        password = await askPassword();
    }

    const config = loadConfig();
    const sequelize = createSequelize(config.database.url, { poolMax: 1 });
    try {
        const staff = await createStaff(initModels(sequelize), { username, password, role: 'owner' });
        console.log(`created owner "${staff.username}" (id ${staff.id})`);
        return 0;
    }
    catch (err) {
        if (err instanceof StaffInputError) {
            console.error(err.message);
            return 1;
        }

        throw err;
    }
    finally {
        await sequelize.close();
    }
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err) => {
    console.error(err);
    process.exit(1);
});
