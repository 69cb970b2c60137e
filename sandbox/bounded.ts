/**
 * Sets `key` in a Map that keeps at most `limit` entries, forgetting the oldest first (a Map iterates in insertion
 * order), so a long-running demo's memory stays bounded. Answers the entries forgotten.
 */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, limit: number): V[] {
    map.delete(key);
    map.set(key, value);
    const forgotten: V[] = [];
    for (const [oldKey, oldValue] of map) {
        if (map.size <= limit) {
            break;
        }

        map.delete(oldKey);
        forgotten.push(oldValue);
    }

    return forgotten;
}
