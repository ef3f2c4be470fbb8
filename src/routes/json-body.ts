// A JSON request body validated by a zod schema through @hono/zod-validator, refused in the
// contract's error shape with the fields at fault.
import { zValidator } from "@hono/zod-validator";
import type { z } from "zod";
import { AppError } from "../errors";

export const jsonBody = <S extends z.ZodType>(schema: S) =>
  zValidator("json", schema, (result) => {
    if (result.success) return;
    const issues = result.error.issues;
    const message = issues.map((i) => `${i.path.length ? i.path.join(".") : "body"}: ${i.message}`).join("; ");
    throw new AppError("bad_request", 400, message, { fields: issues.map((i) => i.path.join(".")) });
  });
