import type { Request } from '@hapi/hapi';

/**
 * The payer's IP for spbill_create_ip. X-Forwarded-For is believed only when the connection comes from a
 * configured trusted proxy, and then the right-most address not itself a trusted proxy is taken.
 */
export function clientIp(request: Request, trustedProxies: string[]): string {
    const peer = peerAddress(request);
    const forwarded = request.headers['x-forwarded-for'];
    if (!trustedProxies.includes(peer) || typeof forwarded !== 'string') {
        return peer;
    }

    const hops = forwarded.split(',').map((hop) => normalise(hop.trim())).filter(Boolean);
    for (let i = hops.length - 1; i >= 0; --i) {
        if (!trustedProxies.includes(hops[i])) {
            return hops[i];
        }
    }

    return peer;
}

/** The address of the connection's other end, IPv4-mapped IPv6 written as plain IPv4. */
export function peerAddress(request: Request): string {
    return normalise(request.info.remoteAddress);
}

function normalise(address: string): string {
    return address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}
