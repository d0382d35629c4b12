"""io/webhooks"""
