"""The demo's content: taxonomy and playbooks (``taxonomy``) and the material the
historical incidents are written from (``stories``). Pure data; ``incidents.seed``
turns it into rows through the services."""
