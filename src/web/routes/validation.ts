/**
 * zod's errors as the sentences a form shows.
 *
 * @module
 */

import type { z } from "zod";

/** One sentence per problem, in the order of the fields. */
export function problemsOf(error: z.ZodError): string[] {
  return [...new Set(error.issues.map((issue) => issue.message))];
}
