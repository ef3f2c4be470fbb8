import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { RouterProvider } from "@tanstack/react-router";
import { StrictMode, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { ApiError, api, onUnauthorized } from "./api/client";
import { getToken, onTokenChange } from "./api/token";
import { SignIn } from "./components/sign-in";
import { applyTheme, initialTheme } from "./lib/theme";
import { router } from "./router";
import "./styles/theme.css";
import "./styles/base.css";
import "./styles/shell.css";
import "./styles/components.css";

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // A 4xx will not get better by asking again; network errors and 5xx may.
      retry: (count, err) => !(err instanceof ApiError && err.status < 500) && count < 3,
      staleTime: 2_000,
    },
  },
});

function App() {
  // Whether the server wants a token is known from its answer to one cheap authenticated call.
  const [auth, setAuth] = useState<"checking" | "ok" | "sign-in">("checking");
  const signIn = auth === "sign-in";
  const setSignIn = (on: boolean) => setAuth(on ? "sign-in" : "ok");
  useEffect(() => onUnauthorized(() => setAuth("sign-in")), []);
  useEffect(() => {
    api.get("/dags", { perPage: 1 }).then(
      () => setAuth((a) => (a === "checking" ? "ok" : a)),
      () => setAuth((a) => (a === "checking" ? "ok" : a)), // a 401 has switched to sign-in already
    );
  }, []);
  useEffect(
    () =>
      onTokenChange(() => {
        // Signing out goes straight to the sign-in screen.
        if (!getToken()) setAuth("sign-in");
        queryClient.clear();
        router.invalidate();
      }),
    [],
  );
  if (auth === "checking") return <p className="muted">Loading…</p>;
  if (signIn) {
    return (
      <SignIn
        onDone={() => {
          setSignIn(false);
          queryClient.clear();
        }}
      />
    );
  }
  return <RouterProvider router={router} />;
}

applyTheme(initialTheme());
const root = document.getElementById("root");
if (!root) throw new Error("no #root element");
createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);
