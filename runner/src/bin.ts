#!/usr/bin/env node
// The runner's executable: runner/dist/runner.mjs is bundled from this file.
import { main } from "./cli.ts";

void main(process.argv.slice(2));
