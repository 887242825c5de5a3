"""The bank's systems, behind one interface (`bank.adapter.BankAdapter`).

Kefu never talks to a core-banking or card system directly: binding an openid to a bank customer
(with a verification code the bank sends), the customer's profile, credit-card bills and limits,
debit balances and recent transactions all go through an adapter. ``bank.demo.DemoBank`` serves
``--demo`` and the tests with made-up customers; ``bank.loader.load_adapter`` picks the adapter
``--bank-adapter`` names; ``bank.timed.TimedBank`` puts a timeout on every call. This package
imports nothing of Kefu's: the desk's self-service feature (`desk.self_service`) uses it.
"""
