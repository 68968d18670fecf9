#!/bin/sh
# Stands in for Prisma's native schema engine, which no registry reachable here provides.
# `prisma generate` only asks for its version; every other use fails loudly instead of pretending.
if [ "$1" = "--version" ]; then echo "schema-engine-cli unavailable (tickets: migrations are applied by npm run ops -- migrate)"; exit 0; fi
echo "Prisma's native schema engine is not installed here: apply migrations with the project's migrate script" >&2
exit 1
