// Customers as the consoles show them: WeChat's name and avatar may come after the offer or the
// session that shows a customer (event customer_updated), so wherever one is shown the latest
// profile for the openid wins over the copy the offer or session carried.
import { customerName } from "kefu/ui";

export class CustomerProfiles {
  constructor() {
    this.latest = new Map(); // openid -> {openid, nickname, avatar_url}
  }

  remember(profile) {
    this.latest.set(profile.openid, profile);
  }

  /** ``customer`` (possibly without an openid, then ``openid``) with the latest name and avatar. */
  of(customer, openid) {
    const c = customer || {};
    const id = c.openid || openid;
    const p = id ? this.latest.get(id) : null;
    if (!p) return { ...c, openid: id };
    return { ...c, openid: id, nickname: p.nickname || c.nickname, avatar_url: p.avatar_url || c.avatar_url };
  }

  nameOf(customer, openid) {
    return customerName(this.of(customer, openid), openid);
  }
}
