import { valueProblem } from '../lib/wechat/subscribe-values';

/**
 * Subscribe messages (reference §4): one acceptance in `wx.requestSubscribeMessage` allows one send of that
 * template to that user; without one the send is 43101. Every message sent is kept for the tests and the demo.
 */
export interface SentMessage {
    touser: string;
    templateId: string;
    page?: string;
    data: Record<string, { value: string }>;
    at: string;
}

export class Subscriptions {
    readonly sent: SentMessage[] = [];
    private readonly credits = new Map<string, number>();

    /** The user tapped "allow" for the template (once per acceptance). */
    accept(openid: string, templateId: string, times = 1): number {
        const key = `${openid}\n${templateId}`;
        const credits = (this.credits.get(key) ?? 0) + times;
        this.credits.set(key, credits);
        return credits;
    }

    send(body: any, now: number): { errcode: number; errmsg: string } {
        if (typeof body?.touser !== 'string' || !/^[A-Za-z0-9_-]{6,64}$/.test(body.touser)) {
            return { errcode: 40003, errmsg: 'invalid openid' };
        }

        if (typeof body.template_id !== 'string' || !body.template_id) {
            return { errcode: 40037, errmsg: 'invalid template_id' };
        }

        if (typeof body.data !== 'object' || body.data === null || !Object.keys(body.data).length) {
            return { errcode: 47003, errmsg: 'argument invalid! data is empty' };
        }

        for (const [keyword, entry] of Object.entries<any>(body.data)) {
            const problem = valueProblem(keyword, entry?.value);
            if (problem) {
                return { errcode: 47003, errmsg: `argument invalid! ${problem}` };
            }
        }

        const key = `${body.touser}\n${body.template_id}`;
        const credits = this.credits.get(key) ?? 0;
        if (credits < 1) {
            return { errcode: 43101, errmsg: 'user refuse to accept the msg' };
        }

        this.credits.set(key, credits - 1);
        this.sent.push({ touser: body.touser, templateId: body.template_id, page: body.page, data: body.data, at: new Date(now).toISOString() });
        return { errcode: 0, errmsg: 'ok' };
    }
}
