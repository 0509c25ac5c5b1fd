"""The marketplace's services: catalog, review, orders and license, plus the `market` CLI."""
