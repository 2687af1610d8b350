"""flowscribe.wsgi on a Django app: the route template from Django's URL resolver, the view
as the flow's site, 5xx failed. The app runs in a process of its own (Django's settings are
process-wide), called through wsgiref's validator, which checks both sides keep PEP 3333."""

from __future__ import annotations

from pathlib import Path

import pytest
from _project import line_of, of_type, run_python, trace

pytest.importorskip("django")

APP = '''
import django
from django.conf import settings

settings.configure(DEBUG=False, ROOT_URLCONF=__name__, ALLOWED_HOSTS=["*"],
                   SECRET_KEY="test-only", MIDDLEWARE=[], LOGGING_CONFIG=None)
django.setup()

import flowscribe
from django.http import HttpResponse
from django.urls import include, path
from django.core.wsgi import get_wsgi_application
from flowscribe.wsgi import FlowscribeMiddleware
from wsgiref.validate import validator


def order(request, pk):  # L:view
    flowscribe.checkpoint("load", pk=pk)
    return HttpResponse("ok")


def busy(request):
    return HttpResponse("later", status=503)


urlpatterns = [path("shop/", include([path("orders/<int:pk>/", order)])),
               path("busy", busy)]
application = validator(FlowscribeMiddleware(get_wsgi_application()))


def call(path_info):
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path_info, "QUERY_STRING": "",
               "SCRIPT_NAME": "", "SERVER_NAME": "localhost", "SERVER_PORT": "80",
               "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
               "wsgi.input": __import__("io").BytesIO(), "wsgi.errors": __import__("sys").stderr,
               "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False,
               "wsgi.version": (1, 0)}
    status = []
    body = application(environ, lambda s, h, e=None: status.append(s) or (lambda b: None))
    data = b"".join(body)
    body.close()
    print(status[0], data.decode())


call("/shop/orders/5/")
call("/busy")
call("/nothing")
flowscribe.end_session()
'''


def test_django_routes_name_the_flows(project: Path) -> None:
    out = run_python(APP, project)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[:2] == ["200 OK ok", "503 Service Unavailable later"]
    ends = {e["flow_id"]: e for e in of_type(trace(project), "flow_end")}
    assert set(ends) == {"http/GET /shop/orders/<int:pk>/", "http/GET /busy",
                         "http/GET <unmatched>"}
    assert ends["http/GET /shop/orders/<int:pk>/"]["status"] == "passed"
    assert (ends["http/GET /busy"]["status"], ends["http/GET /busy"]["error_class"]) == (
        "failed", "HTTP.5XX")
    start = next(e for e in of_type(trace(project), "flow_start")
                 if e["flow_id"].startswith("http/GET /shop"))
    assert (start["file"], start["line"], start["function"]) == (
        "app.py", line_of("view", str(project / "app.py")), "order")
