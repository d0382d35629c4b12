"""io/sunshine"""
