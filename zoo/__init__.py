"""belief-zoo: reasoning models that hold and revise beliefs, as Lightning modules."""
