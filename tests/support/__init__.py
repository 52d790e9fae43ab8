"""What the nox sessions, the benchmark and the tests share: one copy of each helper.

* ``processes``: free ports, process groups (start, alive, stop, kill), waiting for HTTP.
* ``index``: the package index URL, derived at run time.
* ``project_env``: the environment a generated project's own tools run in.
* ``debian``: installing a missing tool from Debian's packages.
* ``postgres``: a throwaway PostgreSQL server on 127.0.0.1.
* ``wrk``: load runs with wrk and their figures.
"""
