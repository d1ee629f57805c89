/**
 * Request bodies of the orchestrator's API (issue #5 §4–5), validated with these schemas and rendered
 * from them into the OpenAPI document (openapi.ts), so the two cannot disagree.
 */
import { z } from 'zod';

/** A stack name labels every object of the stack (stratum.io/stack): a DNS label. */
export const StackNameSchema = z
  .string()
  .max(63)
  .regex(
    /^[a-z]([-a-z0-9]*[a-z0-9])?$/,
    'must be a DNS label: lower-case letters, digits and -, starting with a letter',
  );

/** An imported file's path inside the submission: relative, '/'-separated, no '..'. */
const RelativePathSchema = z
  .string()
  .min(1)
  .max(512)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..') && !p.includes('\\'), {
    message: "must be a relative path with '/' separators and no '..'",
  });

/** At most 4 MiB of template text in all: a stack of 500 microservices is about 300 KiB. */
const MAX_TEMPLATE_CHARS = 4 * 1024 * 1024;

/**
 * A template for a stack: either the YAML text (`template`, with the files it imports by relative
 * path in `files`) or a CSAR archive (`csar`, base64). `inputs` are the values of the template's
 * inputs. PUT and the dry run take the same body.
 */
export const StackTemplateSchema = z
  .object({
    template: z.string().min(1).max(MAX_TEMPLATE_CHARS).optional(),
    files: z.record(RelativePathSchema, z.string().max(MAX_TEMPLATE_CHARS)).optional(),
    csar: z.base64().max(MAX_TEMPLATE_CHARS).optional(),
    inputs: z.record(z.string().min(1), z.unknown()).optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    if ((body.template === undefined) === (body.csar === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['template'],
        message: 'give exactly one of template (YAML text) and csar (base64 archive)',
      });
    }
    if (body.csar !== undefined && body.files !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['files'],
        message: 'a CSAR carries its own files; leave files out',
      });
    }
  });
export type StackTemplate = z.infer<typeof StackTemplateSchema>;

/** An explicit rollback (R-OR-7): the earlier revision to run again. */
export const RollbackSchema = z.object({ revision: z.number().int().positive() }).strict();
