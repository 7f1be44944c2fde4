print("fingpt")
