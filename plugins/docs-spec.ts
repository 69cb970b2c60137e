/**
 * Fixes applied to the Swagger 2.0 document hapi-swagger builds, before it is served:
 * - no `host` or `schemes`: hapi-swagger takes them from the client's Host and X-Forwarded-Host/-Proto headers, so
 *   anyone could make the document point "Try it out" elsewhere; without them Swagger UI calls the server it was
 *   loaded from (Swagger 2.0 §"host").
 * - no `ModelN` names: hapi-swagger names an unlabelled schema that clashes with another (two `status` enums)
 *   `Model1`, `Model2`...; it becomes `<Parent><Property>` (`OrderStatus`) after the definition that holds it.
 * - an integer between a minimum and a maximum gets its minimum as example: Swagger UI's sample body otherwise
 *   takes the maximum (goods 2147483647, count 999), which fails when run as is; ids of 1 exist in the demo seed.
 *   (Swagger 2.0 parameters other than the body have no `example`; their fields start empty.)
 */
export function fixSpec(spec: SwaggerSpec): SwaggerSpec {
    delete spec.host;
    delete spec.schemes;
    renameModels(spec);
    for (const schema of Object.values(spec.definitions ?? {})) {
        exampleFromMinimum(schema);
    }

    return spec;
}

export interface SwaggerSpec {
    host?: string;
    schemes?: string[];
    definitions?: Record<string, Schema>;
    [key: string]: unknown;
}

interface Schema {
    type?: string;
    minimum?: number;
    maximum?: number;
    example?: unknown;
    default?: unknown;
    $ref?: string;
    items?: Schema;
    properties?: Record<string, Schema>;
    [key: string]: unknown;
}

const generated = /^Model\d+$/;

function renameModels(spec: SwaggerSpec): void {
    const definitions = spec.definitions ?? {};
    const renamed = new Map<string, string>();
    for (const [parent, schema] of Object.entries(definitions)) {
        for (const [property, child] of Object.entries(schema.properties ?? {})) {
            const target = refName(child.$ref ?? child.items?.$ref);
            if (target && generated.test(target) && !renamed.has(target)) {
                let name = `${parent}${property[0].toUpperCase()}${property.slice(1)}`;
                while (name in definitions) {
                    name += '_';
                }

                renamed.set(target, name);
                definitions[name] = definitions[target];
                delete definitions[target];
            }
        }
    }

    if (renamed.size) {
        const text = JSON.stringify(spec).replace(/"#\/definitions\/(Model\d+)"/g, (ref, name: string) => renamed.has(name) ? `"#/definitions/${renamed.get(name)}"` : ref);
        Object.assign(spec, JSON.parse(text));
    }
}

function refName(ref: string | undefined): string | undefined {
    return ref?.startsWith('#/definitions/') ? decodeURIComponent(ref.slice('#/definitions/'.length)) : undefined;
}

function exampleFromMinimum(schema: Schema): void {
    if (schema.type === 'integer' && schema.example === undefined && schema.default === undefined && schema.minimum !== undefined && schema.maximum !== undefined) {
        schema.example = schema.minimum;
    }

    for (const child of Object.values(schema.properties ?? {})) {
        exampleFromMinimum(child);
    }

    if (schema.items) {
        exampleFromMinimum(schema.items);
    }
}
