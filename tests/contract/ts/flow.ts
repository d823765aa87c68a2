// A frontend's flow on the types openapi-typescript (default settings) generates from the
// committed contract, with openapi-fetch. It has to compile under `tsc --strict`: the test
// checks the types, it does not run the flow. Request bodies leave out every field that has a
// default, as a client may.
import createClient from "openapi-fetch";
import type { paths } from "./schema";

type Json<T> = T extends { content: { "application/json": infer Body } } ? Body : never;
type SignalRead = Json<paths["/api/v1/signals/{signal_id}"]["get"]["responses"][200]>;
type EventFeed = Json<paths["/api/v1/partner/events"]["get"]["responses"][200]>;
type PartnerEvent = EventFeed["items"][number];
type TokenForm = NonNullable<
  paths["/api/v1/auth/token"]["post"]["requestBody"]
>["content"]["application/x-www-form-urlencoded"];

const baseUrl = "http://127.0.0.1:8000";

async function signIn(form: TokenForm): Promise<string> {
  const anonymous = createClient<paths>({ baseUrl });
  const { data, error } = await anonymous.POST("/api/v1/auth/token", {
    body: form,
    bodySerializer: (body) => {
      const encoded = new URLSearchParams();
      for (const [key, value] of Object.entries(body ?? {})) {
        if (typeof value === "string") encoded.set(key, value);
      }
      return encoded;
    },
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  });
  if (error !== undefined) throw new Error(`sign-in refused: ${error.title}`);
  return data.access_token;
}

function signedIn(token: string) {
  return createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });
}

function etagOf(response: Response): string {
  const etag = response.headers.get("ETag");
  if (etag === null) throw new Error("every signal answer carries an ETag");
  return etag;
}

// The event's typed payload: a signal event names its signal.
function signalOf(event: PartnerEvent): string | undefined {
  const data = event.data;
  if ("signal_id" in data) {
    const signalId: string = data.signal_id;
    return signalId;
  }
  return undefined;
}

export async function flow(): Promise<string[]> {
  const member = signedIn(
    await signIn({ grant_type: "password", username: "member@demo.local", password: "demo" }),
  );
  const reported = await member.POST("/api/v1/signals", {
    params: { header: { "Idempotency-Key": crypto.randomUUID() } },
    body: {
      category: "burglary_risk",
      description: "Raam op de begane grond staat de hele nacht open.",
      buurt_code: "BU0363MA01",
    },
  });
  if (reported.data === undefined) throw new Error(reported.error.title);
  const signalId: string = reported.data.id;
  if (reported.data.advice.call_112) console.log("Bel 112.");

  const history = await member.GET("/api/v1/signals/{signal_id}/history", {
    params: { path: { signal_id: signalId } },
  });
  for (const step of history.data?.items ?? []) console.log(step.action, step.to_status);

  const partner = signedIn(
    await signIn({ grant_type: "password", username: "partner@demo.local", password: "demo" }),
  );
  const read = await partner.GET("/api/v1/signals/{signal_id}", {
    params: { path: { signal_id: signalId } },
  });
  const signal: SignalRead | undefined = read.data;
  if (signal === undefined || !signal.allowed_transitions.includes("acknowledge")) return [];
  const acknowledged = await partner.POST("/api/v1/signals/{signal_id}/acknowledge", {
    params: { path: { signal_id: signalId }, header: { "If-Match": etagOf(read.response) } },
    body: { note: "Wij pakken dit op" },
  });
  // A workflow step needs no body.
  await partner.POST("/api/v1/signals/{signal_id}/start", {
    params: {
      path: { signal_id: signalId },
      header: { "If-Match": etagOf(acknowledged.response) },
    },
  });

  const system = signedIn(
    await signIn({ grant_type: "client_credentials", client_id: "id", client_secret: "secret" }),
  );
  const signals: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await system.GET("/api/v1/partner/events", { params: { query: { after } } });
    if (page.data === undefined) break;
    for (const event of page.data.items) {
      const id = signalOf(event);
      if (id !== undefined) signals.push(`${event.type} ${id}`);
    }
    after = page.data.next_cursor;
    if (!page.data.has_more) break;
  }
  return signals;
}
