import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import copy from "../../src/openapi/dagu-api-v2.json";
import { contractText } from "../support/contract-document";

describe("the contract copy the Worker serves", () => {
  it("is Dagu's v2 contract, unchanged (regenerate with scripts/contract-json.mjs)", () => {
    expect(copy).toEqual(parse(contractText));
  });
});
