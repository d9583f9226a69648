import { z } from 'zod';
import { ROLES } from '../core/roles.ts';
import { LOCALES } from '../i18n/index.ts';

/** config/users.yaml: API users, their roles and the hashes of their tokens (never the tokens). */
export const usersSchema = z
  .object({
    users: z
      .array(
        z
          .object({
            name: z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/),
            /** `field`: the repair crew's app; it may only answer its work orders (narrowest role). */
            role: z.enum(ROLES),
            /** `sha256$<hex>` of the bearer token; tokens are long random strings, so a fast hash is enough. */
            tokenHash: z.string().regex(/^sha256\$[0-9a-f]{64}$/, 'expected sha256$<64 hex digits>'),
            expires: z.string().datetime({ offset: true }).optional(),
            /** The language the dashboard, bulletins and CSV exports speak to this user (http.locale.default if absent). */
            locale: z.enum(LOCALES).optional(),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

export type UsersConfig = z.infer<typeof usersSchema>;
