/**
 * What every route file needs from the API's zod schemas: validation of a request part (a 400
 * naming every bad path) and the JSON Schema the OpenAPI document shows.
 */
import { z } from 'zod';
import { ErrorResponseSchema } from '../../protocol/api.js';
import { HarrowError } from '../../protocol/errors.js';

export function parse<S extends z.ZodType>(schema: S, data: unknown, where: string): z.output<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ path: [where, ...i.path.map(String)].join('.'), message: i.message }));
  throw new HarrowError('INVALID_REQUEST', issues.map((i) => `${i.path}: ${i.message}`).join('; '), { details: { issues } });
}

/** JSON Schema of a zod schema, for the OpenAPI document only (validation is zod's). */
export function doc(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'openapi-3.0' });
}

export function responses(ok: z.ZodType, status = 200): Record<string, unknown> {
  return { [status]: doc(ok), '4xx': doc(ErrorResponseSchema), '5xx': doc(ErrorResponseSchema) };
}
