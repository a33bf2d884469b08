"""A wallet whose balance is read before an await and written back after it."""

import asyncio


class Wallet:
    def __init__(self) -> None:
        self.balance = 100
        self.lock = asyncio.Lock()

    async def audit(self, amount: int) -> None:
        await asyncio.sleep(0.01)

    async def withdraw(self, amount: int) -> None:
        balance = self.balance
        await self.audit(amount)  # other withdrawals run here
        self.balance = balance - amount  # ...and are overwritten here

    async def withdraw_safely(self, amount: int) -> None:
        async with self.lock:
            balance = self.balance
            await self.audit(amount)
            self.balance = balance - amount
