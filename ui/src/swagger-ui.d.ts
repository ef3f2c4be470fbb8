// swagger-ui-dist ships its ES bundle without types; @types/swagger-ui-dist describes the same API.
declare module "swagger-ui-dist/swagger-ui-es-bundle.js" {
  import type { SwaggerUIBundle } from "swagger-ui-dist";

  const SwaggerUI: SwaggerUIBundle;
  export default SwaggerUI;
}
