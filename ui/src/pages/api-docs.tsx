// The API reference: Swagger UI over the OpenAPI document the Worker serves, loaded on demand
// (this whole module is a lazy route). "Try it out" calls carry this tab's token; Swagger UI
// shows its own error when the document cannot be fetched.
import { useEffect, useRef } from "react";
import SwaggerUI from "swagger-ui-dist/swagger-ui-es-bundle.js";
import "swagger-ui-dist/swagger-ui.css";
import { API, authHeaders } from "../api/client";
import "./api-docs.css";

export const OPENAPI_URL = `${API}/openapi.json`;

export default function ApiDocsPage() {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!ref.current) return;
    SwaggerUI({
      domNode: ref.current,
      url: OPENAPI_URL,
      deepLinking: false,
      tryItOutEnabled: false,
      // The same origin only: the token never leaves for a server the document might name.
      requestInterceptor: (req) => {
        if (new URL(req.url, location.href).origin === location.origin) {
          req.headers = { ...req.headers, ...authHeaders() };
        }
        return req;
      },
    });
  }, []);
  useDarkModeClass();
  return (
    <>
      <div className="page-head">
        <h1>API reference</h1>
        <a className="end" href={OPENAPI_URL} target="_blank" rel="noreferrer">
          openapi.json
        </a>
      </div>
      <p className="muted">
        Every call takes this tab's token (sent as a bearer token). “Try it out” sends real requests to this server.
      </p>
      <div ref={ref} className="api-docs" />
    </>
  );
}

/** Swagger UI's own dark theme follows a `dark-mode` class on <html>; keep it in step with ours. */
function useDarkModeClass() {
  useEffect(() => {
    const root = document.documentElement;
    const sync = () => root.classList.toggle("dark-mode", root.dataset.theme === "dark");
    sync();
    const watch = new MutationObserver(sync);
    watch.observe(root, { attributes: true, attributeFilter: ["data-theme"] });
    return () => {
      watch.disconnect();
      root.classList.remove("dark-mode");
    };
  }, []);
}
