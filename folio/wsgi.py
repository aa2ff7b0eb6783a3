import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "folio.settings")

application = get_wsgi_application()

# Everything loaded so far lives as long as the process: keep it out of the cyclic garbage collector, whose
# full passes over ~200,000 application objects otherwise add 60–100 ms to the slowest requests
# (docs/performance.md, "Expediente electrónico").
gc.freeze()
