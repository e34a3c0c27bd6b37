"""Locust students for bench/lecture_hall.py (imported only by locust itself: it patches the
standard library with gevent)."""
import random
from urllib.parse import urlencode

from locust import HttpUser, between, task

HX = {"HX-Request": "true"}
MODEL = ("model = nn.Sequential(\n    nn.Conv2d(3, 16, 3, padding=1),\n    nn.ReLU(),\n    nn.MaxPool2d(2),\n"
         "    nn.Conv2d(16, 32, 3),\n    nn.ReLU(),\n    nn.Flatten(),\n    nn.Linear(32 * 14 * 14, 10),\n)\n")


class Student(HttpUser):
    wait_time = between(2, 5)  # reading, thinking

    def get(self, path, name, headers=None):
        with self.client.get(path, headers=headers or {}, name=name, catch_response=True) as r:
            if r.status_code == 503:  # shed by --limit-concurrency: by design
                r.success()

    def on_start(self):
        self.get("/explore", "open /explore")

    @task(5)
    def drag_a_slider(self):
        size, kernel = random.randint(5, 12), random.randint(1, 4)
        for k in range(1, kernel + 1):  # one request per debounced position while dragging
            self.get(f"/explore?type=Conv2d&input_shape=1,2,{size},{size}&kernel_size={k},{k}"
                     f"&stride={random.randint(1, 2)}", "drag a slider", HX)

    @task(2)
    def play(self):
        self.get(f"/explore?step={random.randint(0, 15)}", "open a step", HX)  # then plays in the browser

    @task(1)
    def paste_a_model(self):
        self.get("/trace?" + urlencode({"code": MODEL, "input_shape": "8,3,32,32"}), "paste a model", HX)

    @task(1)
    def look_at_cost(self):
        self.get(f"/cost?in_channels={random.choice([32, 64, 128])}&out_channels=64", "cost", HX)
