from papertape.cli.main import app

app(prog_name="papertape")
