import * as Dns from 'dns';
import * as Net from 'net';

/**
 * Where a webhook may not go (server-side request forgery): loopback, private, link-local, shared, documentation,
 * multicast, reserved and the IPv6 transition ranges that embed an IPv4 address (NAT64, 6to4, Teredo, the
 * deprecated IPv4-compatible form). IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) are checked as the IPv4 address
 * they are. Where a range could be either, it is refused.
 */
const forbidden = new Net.BlockList();
for (const [network, prefix] of [
    ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
    ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
    ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4]
] as const) {
    forbidden.addSubnet(network, prefix, 'ipv4');
}

for (const [network, prefix] of [
    ['::', 96], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 23], ['2001:db8::', 32], ['2002::', 16],
    ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8]
] as const) {
    forbidden.addSubnet(network, prefix, 'ipv6');
}

export function isForbiddenAddress(address: string): boolean {
    const family = Net.isIP(address);
    if (family === 0) {
        return true;
    }

    return forbidden.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export class WebhookUrlError extends Error {}

export interface UrlRules {
    allowPrivate: boolean;
    requireHttps: boolean;
}

/** The syntax rules of an endpoint URL (no DNS): http(s), no credentials, no fragment. Throws WebhookUrlError. */
export function checkUrlSyntax(value: string, rules: UrlRules): URL {
    let url: URL;
    try {
        url = new URL(value);
    }
    catch {
        throw new WebhookUrlError('url is not a valid absolute URL');
    }

    if (url.protocol !== 'https:' && (url.protocol !== 'http:' || rules.requireHttps)) {
        throw new WebhookUrlError(rules.requireHttps ? 'url must be https' : 'url must be http or https');
    }

    if (url.username || url.password) {
        throw new WebhookUrlError('url must not carry credentials');
    }

    if (url.hash) {
        throw new WebhookUrlError('url must not have a fragment');
    }

    return url;
}

/** The host of a parsed URL as an IP literal, if it is one (`[::1]` → `::1`). */
function literalAddress(url: URL): string | undefined {
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    return Net.isIP(host) ? host : undefined;
}

/**
 * Resolves the URL's host to the one address a delivery connects to, after checking every address it resolves to
 * (one forbidden address among them refuses the URL: DNS may answer differently at connect time otherwise).
 * Throws WebhookUrlError.
 */
export async function resolveCheckedAddress(url: URL, rules: UrlRules, lookup = defaultLookup): Promise<{ address: string; family: 4 | 6 }> {
    const literal = literalAddress(url);
    const addresses = literal ? [{ address: literal, family: Net.isIP(literal) as 4 | 6 }] : await lookup(url.hostname);
    if (!addresses.length) {
        throw new WebhookUrlError(`${url.hostname} does not resolve`);
    }

    if (!rules.allowPrivate) {
        const refused = addresses.find(({ address }) => isForbiddenAddress(address));
        if (refused) {
            throw new WebhookUrlError(`url resolves to ${refused.address}, a loopback, private or otherwise special address`);
        }
    }

    return addresses[0];
}

async function defaultLookup(hostname: string): Promise<Array<{ address: string; family: 4 | 6 }>> {
    try {
        return (await Dns.promises.lookup(hostname, { all: true, verbatim: true })) as Array<{ address: string; family: 4 | 6 }>;
    }
    catch (err) {
        throw new WebhookUrlError(`${hostname} does not resolve (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
}
