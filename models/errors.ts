import { z } from 'zod';

/** Every non-2xx answer of the gateway carries this body. */
export const ErrorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.array(
      z.object({
        field: z.string(),
        message: z.string(),
      }),
    ),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;
