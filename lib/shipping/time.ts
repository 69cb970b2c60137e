import { formatRfc3339Beijing } from '../wechatpay/v3/time';

/** `upload_time` exactly as users found WeChat accepts it: `YYYY-MM-DDTHH:mm:ss.SSS+08:00` (reference §2.3). */
export function uploadTimeOf(date: Date): string {
    return `${formatRfc3339Beijing(date).slice(0, 19)}.${String(date.getTime() % 1000).padStart(3, '0')}+08:00`;
}
