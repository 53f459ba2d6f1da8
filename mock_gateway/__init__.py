"""The mock BHXH gateway: a strict, durable, fault-injectable counterpart for every suite.

Entry points (import them from their modules; this package stays import-light so the
CLI starts fast):

* :class:`mock_gateway.core.Gateway`: ``handle(GatewayRequest) -> GatewayResponse``,
  the framework-free core (those types live in :mod:`mock_gateway.exchange`);
  :class:`mock_gateway.config.GatewayConfig` configures it.
* :func:`mock_gateway.app.create_app` / ``app_factory``: the Starlette ASGI app.
* :func:`mock_gateway.server.serve` and the ``serve`` click command in
  :mod:`mock_gateway.cli`: a real uvicorn server.
* :class:`mock_gateway.testing.InProcessGateway`, ``ServerProcess`` and ``Answer``: tests.
* :mod:`mock_gateway.transport`: ``requests`` adapter and ``responses`` callbacks.
"""
