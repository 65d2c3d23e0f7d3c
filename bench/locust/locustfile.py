"""Benchmark 1 for Locust: each user loops a plain GET with no wait (closed model)."""

from locust import FastHttpUser, task


class PlainGetUser(FastHttpUser):
    """One keep-alive connection looping ``GET /``; the host comes from ``-H``."""

    @task
    def get_root(self) -> None:
        self.client.get("/")
