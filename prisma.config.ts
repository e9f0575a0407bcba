// Prisma 7 reads its configuration from here. Migrations are applied by @leadsync/db's own runner
// (this machine class has no Prisma schema engine), but on a machine with internet
// `prisma migrate deploy` sees the same migrations as applied.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: {
    url: process.env["DATABASE_URL"] ?? "postgresql://postgres:postgres@127.0.0.1:5432/leadsync",
  },
});
