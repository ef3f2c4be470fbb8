// Preloaded into a process under test (`node --import`): as the process exits, writes the list
// of Node's built-in modules it loaded (`process.moduleLoadList`) to the file LOADED_MODULES_FILE.
import { writeFileSync } from "node:fs";

const out = process.env.LOADED_MODULES_FILE;
if (out) process.on("exit", () => writeFileSync(out, process.moduleLoadList.join("\n")));
