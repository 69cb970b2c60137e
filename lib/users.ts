import type { Models, User } from '../models';
import type { WechatSession } from './wechat/login';

/**
 * Finds or creates the user of an openid. The insert ignores a duplicate, so two first logins of one user at
 * once make one row on every database.
 */
export async function upsertUser(models: Models, session: WechatSession): Promise<User> {
    const existing = await models.User.findOne({ where: { openid: session.openid } });
    if (existing) {
        if (session.unionid && existing.unionid !== session.unionid) {
            await existing.update({ unionid: session.unionid });
        }

        return existing;
    }

    await models.User.bulkCreate([{ openid: session.openid, unionid: session.unionid ?? null }], { ignoreDuplicates: true });
    return (await models.User.findOne({ where: { openid: session.openid } }))!;
}
