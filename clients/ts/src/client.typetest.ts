// Compile-time checks of client.ts (tsc --noEmit in `make client`): each @ts-expect-error
// line must fail to type-check, so the wrapper's types cannot quietly decay to `any`.
import { ZwfwClient, fetchTransport, type ErrorCode } from "./client";

const api = new ZwfwClient({ baseURL: "", transport: fetchTransport(), client: "h5" });

export async function typeChecks(): Promise<ErrorCode> {
  // A required Idempotency-Key, a typed body and a typed answer.
  const order = await api.post("/api/v1/payments/{id}/pay", {
    path: { id: "p_1" },
    body: { channel: "alipay_wap" },
    idempotencyKey: "k1",
  });
  const url: string | undefined = order.alipay_pay_url;
  void url;
  // @ts-expect-error the Idempotency-Key is required here
  await api.post("/api/v1/payments/{id}/pay", { path: { id: "p_1" }, body: { channel: "alipay_wap" } });
  // @ts-expect-error not a payment channel
  await api.post("/api/v1/payments/{id}/pay", { path: { id: "p_1" }, body: { channel: "cash" }, idempotencyKey: "k" });
  // @ts-expect-error the path parameter is required
  await api.get("/api/v1/payments/{id}");
  // @ts-expect-error no such path
  await api.get("/api/v1/nowhere");
  // @ts-expect-error GET /api/v1/home takes no body
  await api.get("/api/v1/home", { body: {} });
  const home = await api.get("/api/v1/home");
  // @ts-expect-error a to-do's kind is one of its enum values
  const kind: "refund" = home.todos.items[0].kind;
  void kind;
  // @ts-expect-error not an error code
  const code: ErrorCode = "NO_SUCH_CODE";
  void code;
  return "PAYMENT_BUSY";
}
