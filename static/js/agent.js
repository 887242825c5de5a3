// The agent workbench: presence, offers, my sessions, the conversation with WeChat's reply
// limits, canned replies, the customer panel, transfer and close. This entry builds the one
// shared state and the `desk` every panel (static/js/agent/) is given, wires the panels to each
// other through it and starts the socket; the panels call each other only through `desk`, at
// call time, so none imports another's state.
import { initI18n } from "kefu/i18n";
import { api } from "kefu/api";
import { KefuSocket } from "kefu/socket";
import { everySecond, wireDialogCloseButtons } from "kefu/ui";
import { MessageView } from "kefu/messages";
import { requireSignIn, guardConsole } from "kefu/guard";
import { showConnection } from "kefu/connection";
import { CustomerProfiles } from "kefu/profiles";
import { createPresence } from "kefu/agent/presence";
import { createOffers } from "kefu/agent/offers";
import { createSessions } from "kefu/agent/sessions";
import { createConversation } from "kefu/agent/conversation";
import { createComposer } from "kefu/agent/composer";
import { createCanned } from "kefu/agent/canned";
import { createReplies } from "kefu/agent/replies";
import { createCustomerPanel } from "kefu/agent/customer";
import { createTransferDialog } from "kefu/agent/transfer";
import { createCloseDialog } from "kefu/agent/close";
import { createLeaveMessage } from "kefu/agent/leave_message";
import { wireShortcuts } from "kefu/agent/shortcuts";
import { wireEvents } from "kefu/agent/events";

await initI18n();
const { user, token } = requireSignIn("agent");

const state = {
  presence: { status: "away", since: null },
  offers: new Map(), // session_id -> {data, deadline, total, received}
  sessions: new Map(), // session_id -> {session, transcript, unread, closed}
  active: null,
  closedView: null, // a session that closed while shown: {session, transcript, reason}
  skills: [],
  wrapups: [],
  canned: [],
  agents: null, // colleagues, for staff only (GET /api/agents); null: a plain agent types a name
  pendingStatus: new Map(), // message id -> a status that came before its message
  customers: new Map(), // openid -> {customer, history, loading, fetchedAt}
  profiles: new CustomerProfiles(), // the latest WeChat name and avatar per openid
};

const socket = new KefuSocket({ token });
guardConsole(socket, user);
// Diagnostics and the browser tests reach the live client here.
window.kefuDebug = { socket, state };

function agentName(id) {
  if (id === undefined || id === null) return null;
  if (String(id) === String(user.id)) return user.name || user.username;
  const a = (state.agents || []).find((x) => String(x.id) === String(id));
  return a ? a.name || a.username : null;
}

const desk = { state, socket, user, agentName };
desk.view = new MessageView(document.getElementById("messages"), {
  me: user.id,
  names: agentName,
  onRetry: (msg) => desk.replies.retry(msg),
});
desk.presence = createPresence(desk);
desk.offers = createOffers(desk);
desk.sessions = createSessions(desk);
desk.conversation = createConversation(desk);
desk.composer = createComposer(desk);
desk.canned = createCanned(desk);
desk.replies = createReplies(desk);
desk.customer = createCustomerPanel(desk);
desk.leaveMessage = createLeaveMessage(desk);
createTransferDialog(desk);
createCloseDialog(desk);
wireDialogCloseButtons();
wireShortcuts(desk);
wireEvents(desk);
showConnection(socket, { explainSilence: true, onChange: () => desk.conversation.renderBudget() });

// Skills, wrap-up codes, canned replies and (for staff) colleagues; each may fail on its own.
async function loadReference() {
  // GET /api/agents is for supervisors and admins; a plain agent types the colleague's name instead.
  const staff = (user.roles || []).some((r) => r === "supervisor" || r === "admin");
  const [skills, canned, agents] = await Promise.allSettled([
    api("/api/skills"), api("/api/canned"), staff ? api("/api/agents") : Promise.reject(new Error("not staff"))]);
  if (skills.status === "fulfilled" && skills.value) {
    state.skills = skills.value.skills || [];
    state.wrapups = skills.value.wrapup_codes || [];
  }
  if (canned.status === "fulfilled" && canned.value) desk.canned.set(canned.value.replies || []);
  if (agents.status === "fulfilled" && agents.value) state.agents = agents.value.agents || [];
  else state.agents = null;
  desk.conversation.render();
}

everySecond(() => {
  desk.presence.tick();
  desk.offers.tick();
  desk.sessions.tick();
  if (desk.sessions.active()) desk.conversation.renderBudget();
});

desk.presence.render();
desk.offers.render();
desk.sessions.render();
desk.conversation.render();
socket.connect();
loadReference();
