// The Dagu v2 contract text, bundled by Vite (`?raw`), and one shared checker built from it.
// Works in Node and in workerd (no fs). The YAML lives in ../shared beside the checkout.
import text from "../../../shared/contracts/dagu-api-v2.yaml?raw";
import { type Contract, createContract } from "./contract";

export const contractText: string = text;

let shared: Contract | undefined;

/** A checker for the Dagu v2 contract, parsed on first use and shared by every caller in the module graph. */
export function apiContract(): Contract {
  shared ??= createContract(contractText);
  return shared;
}
