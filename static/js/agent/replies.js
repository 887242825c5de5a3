// Sending my replies. Every reply carries a client id (docs/protocol.md, send): its bubble is the
// local copy "local-<client id>" until the server's message with that client id replaces it, from
// the send's result, the message event or a welcome, whichever comes first. A request lost with
// the socket leaves the bubble "sending" and is sent again under the same client id once the
// socket is back; the server answers the stored message, so nothing is doubled and no ghost is
// left. A reply is "failed" only when the server says so.
import { t } from "kefu/i18n";
import { SocketError } from "kefu/socket";
import { clock, toast } from "kefu/ui";
import { failureText } from "kefu/messages";

function newClientId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16)); // randomUUID needs a secure context
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function createReplies(desk) {
  const { state, socket, user, view } = desk;
  const inFlight = new Set(); // client ids whose send request is under way
  const shown = (entry) => desk.sessions.active() === entry;

  // The server's copy of one of my replies arrived: it takes the local copy's place.
  function reconcile(entry, message) {
    if (!message || !message.client_id) return;
    const localId = `local-${message.client_id}`;
    if (!entry.transcript.get(localId)) return;
    entry.transcript.remove(localId);
    if (shown(entry)) view.sync(localId);
  }

  async function send(text, sessionId, localMsg) {
    const entry = desk.sessions.entryOf(sessionId);
    if (!entry) return;
    const clientId = localMsg ? localMsg.client_id : newClientId();
    if (inFlight.has(clientId)) return;
    const temp = localMsg || {
      id: `local-${clientId}`, client_id: clientId, _local: true, session_id: sessionId, direction: "out",
      author: "agent", author_id: user.id, type: "text", text, ts: clock.now(), status: "pending",
    };
    if (localMsg) entry.transcript.upsert({ id: temp.id, status: "pending", error: null });
    else entry.transcript.upsert(temp);
    if (shown(entry)) view.sync(temp.id);
    inFlight.add(clientId);
    try {
      const result = await socket.request("send", { session_id: sessionId, text, client_id: clientId });
      if (result && result.message) {
        reconcile(entry, result.message);
        entry.transcript.upsert(result.message);
        desk.sessions.applyPendingStatus(entry, result.message.id);
        if (shown(entry)) view.sync(result.message.id);
      }
      desk.sessions.render();
    } catch (exc) {
      // Lost with the socket (or unanswered): the server may have it. It stays "sending" and is
      // sent again after the reconnect (resendUnsettled).
      if (exc instanceof SocketError && (exc.code === "disconnected" || exc.code === "timeout")) return;
      if (!entry.transcript.get(temp.id)) return; // the server's copy arrived meanwhile
      entry.transcript.upsert({ id: temp.id, status: "failed", error: { code: exc.code, message: failureText(exc) } });
      if (shown(entry)) view.sync(temp.id);
    } finally {
      inFlight.delete(clientId);
    }
  }

  // After a (re)connect: every reply still only local is sent again under its client id.
  function resendUnsettled() {
    const entries = [...state.sessions.values()];
    if (state.closedView) entries.push(state.closedView);
    for (const entry of entries) {
      for (const m of [...entry.transcript.list]) {
        if (m._local && m.status === "pending" && !inFlight.has(m.client_id)) send(m.text, String(entry.session.id), m);
      }
    }
  }

  // The bubble's "retry" on a failed reply.
  function retry(msg) {
    const sessionId = String(msg.session_id);
    if (!socket.isOpen) {
      toast(t("conn.send_disabled"), "warn");
      return;
    }
    send(msg.text, sessionId, msg);
  }

  return { send, reconcile, resendUnsettled, retry };
}
